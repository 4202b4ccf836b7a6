using RelayFunctions.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddRelayFunctions();
var app = builder.Build();
if (!Settings.AreValid(app.Services, Console.Error))
{
    return 2;
}
app.UseRelayFunctions();
app.Run();
return 0;

/// <summary>The entry point, visible to the integration tests' WebApplicationFactory.</summary>
public partial class Program;
